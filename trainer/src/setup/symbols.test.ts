import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingSymbols, tensorflowSymbols } from './symbols.ts';

test('reads TF_/TFE_ names from nm -D output without their version suffix', () => {
  const defined = tensorflowSymbols('0000000000abc T TFE_NewOp@@tensorflow\n0000000000abd T TF_NewStatus\n0000000000abe T napi_something\n                 w __gmon_start__\n');
  assert.deepEqual([...defined].sort(), ['TFE_NewOp', 'TF_NewStatus']);
  const imported = tensorflowSymbols('                 U TFE_Execute\n                 U TFE_NewOp\n                 U TF_NewStatus\n                 U napi_create_object\n');
  assert.deepEqual(missingSymbols(imported, defined), ['TFE_Execute']);
});
