import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { bearerHeader, isAuthorized, parseBearer, tokensEqual, validateToken } from './auth.ts';

void test('tokensEqual compares exactly', () => {
  assert.equal(tokensEqual('secret-token', 'secret-token'), true);
  assert.equal(tokensEqual('secret-token', 'secret-tokeN'), false);
  assert.equal(tokensEqual('secret-token', 'secret'), false);
  assert.equal(tokensEqual('', ''), true);
  assert.equal(tokensEqual('', 'x'), false);
});

void test('parseBearer accepts only the Bearer scheme', () => {
  assert.equal(parseBearer(bearerHeader('abc.def')), 'abc.def');
  assert.equal(parseBearer('bearer  abc'), 'abc');
  assert.equal(parseBearer('Basic abc'), undefined);
  assert.equal(parseBearer('Bearer'), undefined);
  assert.equal(parseBearer('Bearer a b'), undefined);
  assert.equal(parseBearer(undefined), undefined);
});

void test('isAuthorized checks the Authorization header', () => {
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
  assert.equal(isAuthorized(req('Bearer t0k'), 't0k'), true);
  assert.equal(isAuthorized(req('Bearer t0K'), 't0k'), false);
  assert.equal(isAuthorized(req(), 't0k'), false);
  assert.equal(isAuthorized(req('Bearer '), ''), false);
});

void test('validateToken rejects empty and non-header-safe tokens', () => {
  assert.doesNotThrow(() => validateToken('abc-123_XYZ'));
  assert.throws(() => validateToken(''), TypeError);
  assert.throws(() => validateToken('has space'), TypeError);
  assert.throws(() => validateToken(42), TypeError);
});
