import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { Decision } from '../src/gallery/index.ts';
import { countOutcomes, splitPeople } from './gallery-korean.ts';

const people = Array.from({ length: 40 }, (_, i) => ({ person: `F${String(Math.floor(i / 3)).padStart(3, '0')}_${i % 3}`, family: `F${String(Math.floor(i / 3)).padStart(3, '0')}` }));

test('the split is deterministic, whole families are enrolled or left out, and split families give kin probes', () => {
  const a = splitPeople(people);
  const b = splitPeople([...people].reverse());
  assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
  const byFamily = new Map<string, Set<string>>();
  for (const p of people) byFamily.set(p.family, (byFamily.get(p.family) ?? new Set()).add(a.get(p.person)!));
  for (const roles of byFamily.values()) {
    // A family is enrolled whole, left out whole (strangers), or split into enrolled and kin: never strangers beside enrolled relatives.
    assert.ok(!(roles.has('stranger') && roles.size > 1), `mixed family ${[...roles]}`);
    if (roles.has('kin')) assert.ok(roles.has('enrolled'));
  }
  const kinds = new Set(a.values());
  assert.deepEqual([...kinds].sort(), ['enrolled', 'kin', 'stranger']);
  const enrolled = [...a.values()].filter((r) => r === 'enrolled').length;
  assert.ok(enrolled >= 15 && enrolled <= 25, `about half enrolled, got ${enrolled}`);
});

const match = (shopperId: string, p: number): Decision => ({ outcome: 'match', shopperId, score: 0.9, falseMatchProbability: p, threshold: 0.5, comparedTemplates: 10, narrowed: false });
const ambiguous: Decision = { outcome: 'ambiguous', reason: 'margin', ask: 'phone_last4', threshold: 0.5, comparedTemplates: 10, candidates: ['a', 'b'] };
const none: Decision = { outcome: 'no_match', reason: 'below_threshold', threshold: 0.5, comparedTemplates: 10, narrowed: false };

test('face-alone false matches: a wrong person for an enrolled probe, any match for a never-enrolled one', () => {
  const c = countOutcomes([
    { mate: 'a', decision: match('a', 1e-7) },
    { mate: 'a', decision: match('b', 1e-6) },
    { mate: 'a', decision: ambiguous },
    { mate: null, decision: match('c', 1e-8) },
    { mate: null, decision: none },
    { mate: null, decision: ambiguous },
  ]);
  assert.equal(c.falseMatches, 2);
  assert.equal(c.ambiguous, 2);
  assert.equal(c.mated, 3);
  // FNIR counts the wrong match and the one sent to the digits.
  assert.equal(c.missed, 2);
  assert.ok(Math.abs(c.stated - (1e-7 + 1e-6 + 1e-8)) < 1e-15);
});
