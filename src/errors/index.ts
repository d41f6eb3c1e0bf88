export { errorCodes, isErrorCode, isRetriableByDefault, type ErrorCode } from './error-code.js';
export { TributaryError, type LeaderHint, type TributaryErrorOptions } from './tributary-error.js';
