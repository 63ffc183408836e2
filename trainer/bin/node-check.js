// pipetrain runs its TypeScript sources with Node's own type stripping (no loader, no build step),
// which Node has by default from 22.18 and 23.6. Older Nodes get one line saying what to do.
export function requireTypeStripping() {
  if (process.features.typescript) return;
  process.stderr.write(
    `pipetrain needs Node.js 22.18 or newer (24 LTS recommended): it runs its TypeScript sources with Node's type stripping, and this is Node ${process.version}.\n` +
      'Install Node 24, or run pipetrain through npm (npm start, npm test, npx pipetrain), which uses the Node 24 that `npm ci` installs on linux-x64.\n',
  );
  process.exit(1);
}
