// pipetrain's version, as package.json states it (version.test.ts keeps the two equal). A
// constant rather than a read of package.json: the stage image and a checkout run the same code.
export const PIPETRAIN_VERSION = '0.1.0';
