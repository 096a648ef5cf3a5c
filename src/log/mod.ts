/**
 * Logging: structured lines, levels, redaction.
 *
 * @module
 */

export {
  createLogger,
  type Fields,
  type Level,
  LEVELS,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogSink,
  stdoutSink,
  type SwitchableLogger,
  switchableLogger,
} from "./logger.ts";
export { eventLogger } from "./event_logger.ts";
