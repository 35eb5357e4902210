/**
 * Exit codes of every `mailingcore` command (documented in the README):
 * 0 ok, 1 an error (the API's, or the database's / configuration's),
 * 2 usage (bad arguments, or a confirmation that could not be asked),
 * 3 partial failure (an import with failed rows).
 */
export const EXIT = { ok: 0, error: 1, usage: 2, partial: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ErrorDetail {
  field: string;
  message: string;
}

/** An error the CLI prints as `mailingcore: <message>` (then one `  field: message` line per detail) before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.error,
    readonly details: readonly ErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** The lines an error is printed as on stderr. */
export function errorLines(error: CliError): string[] {
  return [`mailingcore: ${error.message}`, ...error.details.map((d) => `  ${d.field}: ${d.message}`)];
}
