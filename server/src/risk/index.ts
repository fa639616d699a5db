/**
 * The risk engine: for each face payment, face alone, face + phone digits, face + PIN, or another
 * way to pay, from pure rules over inputs that the facepay module's ports provide. It knows no
 * storage, no HTTP and no other module.
 */
export { decide, satisfied, tighten } from './engine.ts';
export type { LivenessEvidence, ReasonCode, RiskChoice, RiskDecision, RiskInput } from './engine.ts';
export { DEFAULT_RULES } from './rules.ts';
export type { RiskRules, RiskSettings, TerminalCapability } from './rules.ts';
