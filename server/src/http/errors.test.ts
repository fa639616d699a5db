import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { DomainError } from '../platform/index.ts';
import { handleError, isRetryable, statusForKind } from './errors.ts';

test('a search of a gallery partition this process does not serve: 503, retryable, naming the partition, so a balancer can send it on', async () => {
  assert.equal(statusForKind('unavailable', 'gallery_partition_not_served'), 503);
  assert.equal(isRetryable(503, 'gallery_partition_not_served'), true);
  const app = Fastify();
  app.setErrorHandler((err, request, reply) => handleError(err, request, reply));
  app.get('/search', async () => {
    throw new DomainError('unavailable', 'gallery_partition_not_served', 'gallery partition eu-north is not served by this process', {
      partition: 'eu-north',
      served: ['asia'],
    });
  });
  const r = await app.inject({ method: 'GET', url: '/search' });
  assert.equal(r.statusCode, 503);
  const body = r.json() as { error: { code: string; details: { partition: string; served: string[] } } };
  assert.equal(body.error.code, 'gallery_partition_not_served');
  assert.deepEqual(body.error.details, { partition: 'eu-north', served: ['asia'] });
  await app.close();
});
