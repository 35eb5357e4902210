/**
 * What a refusal from a receiving mail server means for the message and the
 * address (pure), by the enhanced status code of RFC 3463 (`class.subject.detail`)
 * when there is one, else by the basic reply code and the SMTP stage. The
 * same table serves immediate SMTP answers and, later, delivery status
 * notifications (RFC 3464 `Status:` fields: stage `dsn`).
 *
 * - `hard`: the address is bad for good → message FAILED, address suppressed (`bounce`).
 * - `soft`: the address is fine but the mail could not be delivered now →
 *   retried when temporary (4xx), FAILED without suppression when permanent
 *   (5xx); N soft bounces in a row suppress the address (SOFT_BOUNCE_LIMIT).
 * - `blocked`: refused by policy (spam, reputation, authentication of the
 *   sender) → FAILED, not suppressed: the sender must fix something, not the list.
 * - `failed`: a permanent failure that says nothing about the address
 *   (content, protocol, our sender address, a host we may not connect to) → FAILED.
 * - `transient`: no answer about the message (connection, timeout, our
 *   credentials) → retried, FAILED once the attempt budget is spent.
 */
export type BounceClass = 'hard' | 'soft' | 'blocked' | 'failed' | 'transient';

/** Where the answer came from: a reply to one SMTP command, or a DSN that came back later. */
export type SmtpStage = 'connection' | 'auth' | 'mail' | 'rcpt' | 'data' | 'dsn' | 'other';

export interface Refusal {
  stage: SmtpStage;
  /** The basic reply code (550, 451…), if known. */
  basic?: number;
  /** The enhanced status code (`5.1.1`), if known; otherwise parsed from `text`. */
  enhanced?: string;
  /** The server's reply text, e.g. `550 5.1.1 <ana@example.com>: user unknown`. */
  text?: string;
}

export interface Classification {
  class: BounceClass;
  /** True when the message may be tried again (4xx, or no answer at all). */
  temporary: boolean;
  /** The enhanced code the decision was made by, when there was one. */
  enhanced?: string;
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)/;

/**
 * The enhanced status code of a reply: right after the basic code of its
 * first line (RFC 2034: `550 5.1.1 …`, `550-5.1.1 …`), or at the start of
 * the text (a DSN `Status:` value). Undefined when there is none.
 */
export function enhancedCodeOf(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const rest = text.trimStart().replace(/^\d{3}[ -]\s*/, '');
  const match = ENHANCED.exec(rest);
  return match ? `${match[1]}.${Number(match[2])}.${Number(match[3])}` : undefined;
}

/** Nodemailer's name of the command that was refused → the stage. */
export function stageOfCommand(command: string | undefined): SmtpStage {
  const c = (command ?? '').toUpperCase();
  if (c === 'RCPT TO' || c === 'RCPT') return 'rcpt';
  if (c === 'MAIL FROM' || c === 'MAIL') return 'mail';
  if (c === 'DATA') return 'data';
  if (c.startsWith('AUTH')) return 'auth';
  if (c === 'CONN' || c === 'GREETING' || c === 'EHLO' || c === 'HELO' || c === 'STARTTLS') return 'connection';
  return 'other';
}

const temporary = (cls: BounceClass, enhanced?: string): Classification => ({ class: cls, temporary: true, enhanced });
const permanent = (cls: BounceClass, enhanced?: string): Classification => ({ class: cls, temporary: false, enhanced });

export function classifyRefusal(refusal: Refusal): Classification {
  const { stage, basic } = refusal;
  // Our connection or our credentials: nothing is known about the recipient; the operator fixes it and the retry goes through.
  if (stage === 'connection' || stage === 'auth' || stage === 'other') return temporary('transient');
  const enhanced = refusal.enhanced ?? enhancedCodeOf(refusal.text);
  // A 5xx reply with a 4.x.x code (or the reverse) is inconsistent: the basic code decides whether to retry.
  const basicClass = basic !== undefined && basic >= 400 && basic < 600 ? Math.floor(basic / 100) : undefined;
  if (enhanced) {
    const [cls, subject, detail] = enhanced.split('.').map(Number) as [number, number, number];
    const isTemporary = basicClass !== undefined ? basicClass === 4 : cls === 4;
    if (cls === 2) return temporary('transient', enhanced); // success code in a refusal: no verdict, try again
    if (isTemporary) return temporary('soft', enhanced); // 4.x.x: any temporary refusal (greylisting, mailbox busy, rate limited)
    return permanent(permanentBySubject(stage, subject, detail), enhanced);
  }
  if (basicClass === 4) return temporary('soft');
  // No enhanced code: the address was refused only if RCPT TO was (or a DSN says it failed).
  if (basicClass === 5) return permanent(stage === 'rcpt' || stage === 'dsn' ? 'hard' : 'failed');
  return temporary('transient');
}

/** A permanent (5.x.x) enhanced code, by subject and detail (RFC 3463 §3). */
function permanentBySubject(stage: SmtpStage, subject: number, detail: number): BounceClass {
  switch (subject) {
    case 1: // addressing status
      // 5.1.7 bad sender's mailbox syntax, 5.1.8 bad sender's system address: our From, not the recipient.
      if (detail === 7 || detail === 8) return 'failed';
      // A 5.1.x answer to MAIL FROM is about the sender address too.
      if (stage === 'mail') return 'failed';
      // 5.1.0 other address status, 5.1.1 bad destination mailbox (user unknown), 5.1.2 bad destination
      // system (no such domain), 5.1.3 bad destination mailbox syntax, 5.1.4 ambiguous address,
      // 5.1.5 destination valid but refused, 5.1.6 mailbox has moved (no forwarding),
      // 5.1.9 non-compliant destination, 5.1.10 recipient address has a null MX (RFC 7505).
      return 'hard';
    case 2: // mailbox status
      // 5.2.1 mailbox disabled, not accepting messages: the account is closed or suspended.
      if (detail === 1) return 'hard';
      // 5.2.0 other mailbox status, 5.2.2 mailbox full, 5.2.3 message too long for the mailbox,
      // 5.2.4 mailing list expansion problem: the mailbox exists.
      return 'soft';
    case 3: // mail system status: 5.3.0 other, 5.3.1 system full, 5.3.2 not accepting messages, 5.3.3 feature unsupported, 5.3.4 message too big
      return 'soft';
    case 4: // network and routing: 5.4.0 other, 5.4.1 no answer from host, 5.4.2 bad connection, 5.4.3 directory server failure,
      // 5.4.4 unable to route, 5.4.5 system congestion, 5.4.6 routing loop, 5.4.7 delivery time expired
      return 'soft';
    case 5: // protocol status (5.5.x): our client said something the server did not accept; the address is not at fault
      return 'failed';
    case 6: // message content or media (5.6.x): conversion not possible, content rejected
      return 'failed';
    case 7: // security or policy (5.7.x): 5.7.1 delivery not authorised / spam block, 5.7.23 SPF, 5.7.25 reverse DNS,
      // 5.7.26 DMARC / authentication failed, 5.7.8 bad credentials… — the sender's reputation or setup, not the address
      return 'blocked';
    default: // 5.0.0 other or undefined status: the old rule, by stage
      return stage === 'rcpt' || stage === 'dsn' ? 'hard' : 'failed';
  }
}

/** A failed send as Nodemailer (or the transport) reports it. */
export interface SmtpFailure {
  responseCode?: number;
  command?: string;
  code?: string;
  /** The server's reply, e.g. `550 5.1.1 user unknown`. */
  response?: string;
}

/** A failed send → its class: the refusal table above, plus a host the outbound policy refuses. */
export function classifyFailure(error: SmtpFailure): Classification {
  // No connection was made, and retrying cannot change the answer.
  if (error.code === 'HOST_NOT_ALLOWED') return permanent('failed');
  return classifyRefusal({ stage: stageOfCommand(error.command), basic: error.responseCode, text: error.response });
}
