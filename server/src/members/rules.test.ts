import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvCell, csvRow, localTime, normaliseField, rfmScores, segmentOf, usualSlots, type MemberActivity, type Rfm, type Segment } from './rules.ts';

const DAY = 24 * 3600 * 1000;
const NOW = Date.parse('2026-11-25T12:00:00Z');

describe('segments', () => {
  const mid: Rfm = { recency: 3, frequency: 3, monetary: 3 };
  const top: Rfm = { recency: 5, frequency: 4, monetary: 4 };
  const rows: { name: string; joinedDaysAgo: number; visits: number; lastVisitDaysAgo: number | null; rfm: Rfm; want: Segment }[] = [
    { name: 'joined today, no visit', joinedDaysAgo: 0, visits: 0, lastVisitDaysAgo: null, rfm: mid, want: 'new' },
    { name: 'joined 30 days ago, 2 visits', joinedDaysAgo: 30, visits: 2, lastVisitDaysAgo: 1, rfm: top, want: 'new' },
    { name: 'joined 31 days ago, 2 visits, recent', joinedDaysAgo: 31, visits: 2, lastVisitDaysAgo: 1, rfm: mid, want: 'active' },
    { name: 'joined 10 days ago but 3 visits: not new', joinedDaysAgo: 10, visits: 3, lastVisitDaysAgo: 1, rfm: mid, want: 'active' },
    { name: 'new with top scores stays new', joinedDaysAgo: 5, visits: 1, lastVisitDaysAgo: 5, rfm: top, want: 'new' },
    { name: 'top scores, recent: champion', joinedDaysAgo: 200, visits: 40, lastVisitDaysAgo: 2, rfm: top, want: 'champion' },
    { name: 'one score below 4: active', joinedDaysAgo: 200, visits: 40, lastVisitDaysAgo: 2, rfm: { recency: 5, frequency: 3, monetary: 5 }, want: 'active' },
    { name: '45 days idle exactly: still active', joinedDaysAgo: 200, visits: 5, lastVisitDaysAgo: 45, rfm: mid, want: 'active' },
    { name: '46 days idle: at risk', joinedDaysAgo: 200, visits: 5, lastVisitDaysAgo: 46, rfm: mid, want: 'at_risk' },
    { name: 'champion scores but idle 60 days: at risk', joinedDaysAgo: 400, visits: 50, lastVisitDaysAgo: 60, rfm: top, want: 'at_risk' },
    { name: '90 days idle: at risk', joinedDaysAgo: 200, visits: 5, lastVisitDaysAgo: 90, rfm: mid, want: 'at_risk' },
    { name: '91 days idle: lapsed', joinedDaysAgo: 200, visits: 5, lastVisitDaysAgo: 91, rfm: mid, want: 'lapsed' },
    { name: 'never visited, joined 50 days ago: at risk', joinedDaysAgo: 50, visits: 0, lastVisitDaysAgo: null, rfm: mid, want: 'at_risk' },
    { name: 'never visited, joined 100 days ago: lapsed', joinedDaysAgo: 100, visits: 0, lastVisitDaysAgo: null, rfm: mid, want: 'lapsed' },
  ];
  for (const r of rows)
    test(r.name, () => {
      const m = {
        joinedAt: NOW - r.joinedDaysAgo * DAY,
        visits: r.visits,
        lastVisitAt: r.lastVisitDaysAgo === null ? null : NOW - r.lastVisitDaysAgo * DAY,
      };
      assert.equal(segmentOf(m, r.rfm, NOW), r.want);
    });
});

describe('RFM quintiles', () => {
  test('ten members spread over five scores, best last; ties share a score; non-visitors score 1', () => {
    const pop: MemberActivity[] = [];
    for (let i = 0; i < 10; i++) pop.push({ memberId: `m${i}`, joinedAt: 0, visits: i + 1, spend: (i + 1) * 1000, lastVisitAt: NOW - (10 - i) * DAY });
    pop.push({ memberId: 'tie', joinedAt: 0, visits: 10, spend: 10_000, lastVisitAt: NOW - DAY });
    pop.push({ memberId: 'never', joinedAt: 0, visits: 0, spend: 0, lastVisitAt: null });
    const s = rfmScores(pop);
    assert.deepEqual(s.get('m0'), { recency: 1, frequency: 1, monetary: 1 });
    assert.deepEqual(s.get('m9'), { recency: 5, frequency: 5, monetary: 5 });
    assert.deepEqual(s.get('tie'), s.get('m9'));
    assert.deepEqual(s.get('never'), { recency: 1, frequency: 1, monetary: 1 });
    const freq = [...Array(10).keys()].map((i) => s.get(`m${i}`)!.frequency);
    for (let i = 1; i < 10; i++) assert.ok(freq[i]! >= freq[i - 1]!, 'scores rise with visits');
    assert.deepEqual(new Set(freq), new Set([1, 2, 3, 4, 5]));
  });

  test('everyone equal: everyone scores 1 (nobody is below anyone)', () => {
    const pop = [1, 2, 3].map((i) => ({ memberId: `m${i}`, joinedAt: 0, visits: 2, spend: 500, lastVisitAt: NOW }));
    for (const v of rfmScores(pop).values()) assert.deepEqual(v, { recency: 1, frequency: 1, monetary: 1 });
  });
});

describe('local time and habits', () => {
  test('weekday and hour follow the IANA zone, including daylight saving', () => {
    // 23:30 UTC on Wednesday is 07:30 on Thursday in Shanghai.
    assert.deepEqual(localTime(Date.parse('2026-11-25T23:30:00Z'), 'Asia/Shanghai'), { date: '2026-11-26', month: 11, weekday: 3, hour: 7 });
    // New York is UTC-4 in July and UTC-5 in January.
    assert.equal(localTime(Date.parse('2026-07-01T16:00:00Z'), 'America/New_York').hour, 12);
    assert.equal(localTime(Date.parse('2026-01-07T16:00:00Z'), 'America/New_York').hour, 11);
    assert.equal(localTime(Date.parse('2026-01-04T00:30:00Z'), 'UTC').weekday, 6);
  });

  test('usual slots cover 60 % of visits with at most three slots, none under three visits', () => {
    assert.deepEqual(usualSlots([0, 5, 0, 1, 0, 0, 0]), [1]);
    assert.deepEqual(usualSlots([2, 2, 2, 2, 2, 0, 0]), [0, 1, 2]);
    assert.deepEqual(usualSlots([1, 1, 0, 0, 0, 0, 0]), []);
    assert.deepEqual(usualSlots([1, 1, 1, 1, 1, 1, 1]), [0, 1, 2]);
  });
});

describe('fields', () => {
  test('values are normalised and bad ones refused with the field named', () => {
    assert.equal(normaliseField('email', ' Ann@Example.COM '), 'ann@example.com');
    assert.equal(normaliseField('phone', '+86 138-0013 8000'), '+8613800138000');
    assert.equal(normaliseField('birthday', '1990-02-28'), '1990-02-28');
    assert.throws(() => normaliseField('birthday', '1990-02-30'), { code: 'field_invalid' });
    assert.throws(() => normaliseField('gender', 'robot'), { code: 'field_invalid', details: { field: 'gender' } });
    assert.throws(() => normaliseField('phone', 'call me'), { code: 'field_invalid' });
  });
});

describe('CSV', () => {
  test('quotes commas, quotes and newlines; neutralises formulas; leaves numbers alone', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell('+8613800138000'), "'+8613800138000");
    assert.equal(csvCell('-2'), "'-2");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
    assert.equal(csvCell(-5), '-5');
    assert.equal(csvCell(null), '');
    assert.equal(csvRow(['a', 1, null]), 'a,1,\r\n');
  });
});
