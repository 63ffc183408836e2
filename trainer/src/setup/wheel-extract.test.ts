// Member selection is pure; listing and extraction run the real Python on a small zip made here.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractMembers, listWheel, selectionProblem, selectWheelMembers } from './wheel-extract.ts';

const NAMES = [
  'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2', 'tensorflow/python/_pywrap_tensorflow_internal.so',
  'tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/c/c_api.h', 'tensorflow/include/tensorflow/c/eager/c_api.h',
  'tensorflow/include/tensorflow/core/platform/ctstring_internal.h', 'tensorflow/include/tensorflow/core/platform/env.h',
  'tensorflow/include/tsl/platform/ctstring.h', 'tensorflow/include/tsl/c/tsl_status.h', 'tensorflow/include/xla/tsl/c/tsl_status.h',
  'tensorflow/include/Eigen/Core', 'tensorflow/xla_aot_runtime_src/tsl/platform/ctstring.h',
];

test('selects the two libraries and only the C API headers the binding includes', () => {
  const members = selectWheelMembers(NAMES.map((name) => ({ name, bytes: 1 })));
  assert.deepEqual(members.map((m) => m.destination), [
    'lib/libtensorflow_cc.so.2', 'lib/libtensorflow_framework.so.2', 'include/tensorflow/c/c_api.h', 'include/tensorflow/c/eager/c_api.h',
    'include/tensorflow/core/platform/ctstring_internal.h', 'include/tsl/platform/ctstring.h', 'include/tsl/c/tsl_status.h', 'include/xla/tsl/c/tsl_status.h',
  ]);
  assert.equal(selectionProblem(members), undefined);
  assert.match(selectionProblem(members.filter((m) => !m.destination.includes('framework')))!, /no libtensorflow_framework\.so\.2/);
  assert.match(selectionProblem(members.filter((m) => !m.destination.includes('eager')))!, /no tensorflow\/c\/eager\/c_api\.h/);
});

const root = mkdtempSync(join(tmpdir(), 'pipetrain-wheel-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('lists and extracts members of a zip with Python, and names an unreadable file', async () => {
  const wheel = join(root, 'tiny.whl');
  execFileSync('python3', ['-c', `import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED)\nfor n in sys.argv[2:]: z.writestr(n, n*3)\nz.close()`, wheel, ...NAMES.filter((n) => !n.endsWith('/'))]);
  const entries = await listWheel('python3', wheel);
  assert.equal(entries.length, NAMES.length - 1);
  const members = selectWheelMembers(entries);
  await extractMembers('python3', wheel, members, join(root, 'out'));
  assert.deepEqual(readdirSync(join(root, 'out', 'lib')).sort(), ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']);
  assert.equal(readFileSync(join(root, 'out', 'include', 'tensorflow', 'c', 'c_api.h'), 'utf8'), 'tensorflow/include/tensorflow/c/c_api.h'.repeat(3));
  await assert.rejects(listWheel('python3', join(root, 'out', 'lib', 'libtensorflow_cc.so.2')), /cannot be read as a zip file/);
});
