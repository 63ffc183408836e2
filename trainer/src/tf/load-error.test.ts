import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLoadError } from './load-error.ts';

const cases: Array<[string, string, RegExp]> = [
  ['libtensorflow_cc.so.2: cannot open shared object file: No such file or directory', 'library-missing', /^library missing: libtensorflow_cc\.so\.2$/],
  ["The module '/x/tfjs_binding.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 93. This version of Node.js requires NODE_MODULE_VERSION 137.", 'wrong-abi', /another Node or platform/],
  ['/x/tfjs_binding.node: invalid ELF header', 'wrong-abi', /another Node or platform/],
  ['/x/tfjs_binding.node: undefined symbol: TFE_NewOp', 'wrong-abi', /undefined symbol TFE_NewOp/],
  ["Cannot find module '@mapbox/node-pre-gyp'\nRequire stack:\n- /x/index.js", 'not-installed', /^@mapbox\/node-pre-gyp is not installed$/],
  ['The Node.js native addon module (tfjs_binding.node) can not be found at path: /x. \nPlease run command ...', 'binding-absent', /^binding not built$/],
  ['something else\nat line 2', 'wrong-abi', /^failed to load: something else$/],
];

test('load failures become one line with the cause and the setup command', () => {
  for (const [message, kind, reason] of cases) {
    const problem = describeLoadError('tensorflow', new Error(message));
    assert.equal(problem.kind, kind, message);
    assert.match(problem.reason, reason);
    assert.ok(!problem.reason.includes('\n'));
    assert.equal(problem.fix, 'run npm run setup:tensorflow');
  }
  assert.equal(describeLoadError('tensorflow-gpu', new Error('x')).fix, 'run npm run setup:tensorflow -- --variant gpu');
});
