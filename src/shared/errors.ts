/**
 * Domain errors carry the HTTP status and a stable machine-readable code, so
 * services stay free of Fastify and one error handler maps them to responses.
 */
export interface ErrorDetail {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra top-level fields for the response body (e.g. `quota`). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const validationError = (message: string, details?: ErrorDetail[]) =>
  new AppError(400, 'VALIDATION_ERROR', message, details);

export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`);

export const invalidState = (what: string, status: string, action: string) =>
  new AppError(409, 'INVALID_STATE', `Cannot ${action} a ${what} in status ${status}`, undefined, {
    currentStatus: status,
  });

export const conflict = (message: string) => new AppError(409, 'CONFLICT', message);

export const unprocessable = (code: string, message: string, details?: ErrorDetail[]) =>
  new AppError(422, code, message, details);
