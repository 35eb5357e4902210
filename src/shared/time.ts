export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export const toIso = (date: Date): string => date.toISOString();
