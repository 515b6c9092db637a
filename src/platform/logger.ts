/** pino, pretty on a TTY and JSON otherwise (what log shippers want). */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}
