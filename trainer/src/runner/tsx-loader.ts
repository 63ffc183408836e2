// The tsx loader as an absolute URL, for child processes that run TypeScript (`--import <url>`):
// a bare `--import tsx` resolves from the child's working directory, which may be anywhere.
export const TSX_IMPORT = import.meta.resolve('tsx');
