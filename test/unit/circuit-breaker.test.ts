import { describe, expect, it } from 'vitest';
import { breakerVerdict, countsSince, parseBaseline } from '../../src/campaigns/circuit-breaker.js';
import { DEFAULTS, loadConfig } from '../../src/config.js';

const counts = (sent: number, bouncedHard = 0, complained = 0, bouncedSoft = 0) => ({ sent, bouncedHard, bouncedSoft, complained });

describe('circuit breaker rules', () => {
  const rules = DEFAULTS.breaker;

  it('judges nothing before BREAKER_MIN_SENT emails were sent or bounced', () => {
    expect(breakerVerdict(counts(0), rules)).toBeUndefined();
    expect(breakerVerdict(counts(900, 99), rules)).toBeUndefined(); // 999 attempted, 10 % bounced
  });

  it('trips on a hard-bounce rate above 5 % of sent + bounced, not at it', () => {
    expect(breakerVerdict(counts(950, 50), rules)).toBeUndefined(); // exactly 5 %
    expect(breakerVerdict(counts(949, 51), rules)).toMatch(/^circuit breaker: hard-bounce rate 5\.1 % above 5 % \(51 of 1000\)$/);
  });

  it('counts soft bounces as attempted but not as hard bounces', () => {
    expect(breakerVerdict(counts(500, 40, 0, 500), rules)).toBeUndefined(); // 40 / 1040
  });

  it('trips on a complaint rate above 0.3 %', () => {
    expect(breakerVerdict(counts(1000, 0, 3), rules)).toBeUndefined();
    expect(breakerVerdict(counts(1000, 0, 4), rules)).toMatch(/complaint rate 0\.4 % above 0\.3 %/);
  });

  it('judges a resumed campaign on what it sent since its baseline', () => {
    const baseline = parseBaseline(JSON.stringify(counts(1000, 100)));
    expect(breakerVerdict(countsSince(counts(1500, 110), baseline), rules)).toBeUndefined(); // 510 since, 10 hard
    expect(breakerVerdict(countsSince(counts(2100, 160), baseline), rules)).toMatch(/hard-bounce rate 5\.17 %/); // 60 of 1160
    expect(countsSince(counts(5, 1), undefined)).toEqual(counts(5, 1));
  });

  it('reads a damaged baseline as none, missing counters as zero', () => {
    expect(parseBaseline(null)).toBeUndefined();
    expect(parseBaseline('{not json')).toBeUndefined();
    expect(parseBaseline('{"sent": 3}')).toEqual(counts(3));
  });

  it('reads BREAKER_* settings and refuses nonsense', () => {
    const env = { DATA_DIR: '/tmp/mc-breaker-config' };
    expect(loadConfig(env).breaker).toEqual(DEFAULTS.breaker);
    expect(loadConfig({ ...env, BREAKER_BOUNCE_RATE: '0.1', BREAKER_COMPLAINT_RATE: '.001', BREAKER_MIN_SENT: '50' }).breaker).toEqual({
      bounceRate: 0.1,
      complaintRate: 0.001,
      minSent: 50,
    });
    expect(() => loadConfig({ ...env, BREAKER_BOUNCE_RATE: '5' })).toThrow(/BREAKER_BOUNCE_RATE/);
    expect(() => loadConfig({ ...env, BREAKER_BOUNCE_RATE: '0' })).toThrow(/BREAKER_BOUNCE_RATE/);
    expect(() => loadConfig({ ...env, BREAKER_COMPLAINT_RATE: '3%' })).toThrow(/BREAKER_COMPLAINT_RATE/);
    expect(() => loadConfig({ ...env, BREAKER_MIN_SENT: '-1' })).toThrow(/BREAKER_MIN_SENT/);
  });
});
