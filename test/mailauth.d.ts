/** The part of mailauth 4 (an independent DKIM verifier, test only) the tests use; the package ships no types. */
declare module 'mailauth/lib/dkim/verify.js' {
  export interface DkimResult {
    signingDomain?: string;
    selector?: string;
    signingHeaders?: { keys?: string };
    status: { result: string; comment?: string; aligned?: string | false };
    info?: string;
  }
  export function dkimVerify(
    message: Buffer | string,
    options?: { resolver?: (name: string, type: string) => Promise<unknown> },
  ): Promise<{ results: DkimResult[] }>;
}
