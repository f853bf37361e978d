/** The audit room's public surface: what `gateway/` and `cli/` import. */
export type { AnchorRead } from './anchor.ts';
export { readAnchorFile, writeAnchorFile } from './anchor.ts';
export type { AppendAuditResult, AppendOptions, AppendResult } from './append.ts';
export { appendAudit, appendAuditInTx, audited } from './append.ts';
export type { AuditCheckpoint, WriteCheckpointResult } from './checkpoint.ts';
export { checkpointMessage, DEFAULT_CHECKPOINT_EVERY, writeCheckpoint } from './checkpoint.ts';
export type { ControlPlaneFinding } from './control-plane.ts';
export { CONTROL_PLANE_TAMPERED, checkControlPlane } from './control-plane.ts';
export type { AuditEntry, AuditOutcome, AuditSummary } from './entry.ts';
export { AUDIT_OUTCOMES } from './entry.ts';
export type { AuditKeyring } from './keyring.ts';
export { auditKeyId, memoryAuditKeyring, verifyCheckpointSignature } from './keyring.ts';
export type { AuditProblem, AuditProblemCode, AuditWarning, AuditWarningCode } from './problems.ts';
export { AUDIT_PROBLEM_CODES, AUDIT_WARNING_CODES } from './problems.ts';
export type { AuditView, ReadAuditOptions } from './show.ts';
export { readAudit } from './show.ts';
export type { VerifyOptions, VerifyResult } from './verify.ts';
export { assertAuditIntact, verifyAudit } from './verify.ts';
