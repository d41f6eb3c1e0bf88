import { TributaryError } from '../../errors/index.js';
import type { GrantCreditRequest, GrantCreditResponse } from '../generated/tributary/client/v1/consumer_service.js';
import type { SubscriptionRegistry } from './subscription-registry.js';

/**
 * GrantCredit (consumer_service.proto): finds the live subscription, lets only its subscriber
 * grant (PERMISSION_DENIED otherwise), and applies the cumulative consumed total and the new
 * window; the answer is the subscription's flow-control state afterwards.
 */
export function grantCredit(request: GrantCreditRequest, principal: string, registry: SubscriptionRegistry): GrantCreditResponse {
  if (request.subscriptionId === '') throw new TributaryError('INVALID_REQUEST', 'GrantCredit needs the subscription_id from SubscribeStarted');
  const state = registry.find(request.subscriptionId).grant(principal, request.consumedBytes, request.windowBytes);
  return { sentBytes: state.sentBytes, consumedBytes: state.consumedBytes, windowBytes: state.windowBytes };
}
