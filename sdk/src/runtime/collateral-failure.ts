import { DanubeError } from '../danube/errors.js';

/**
 * True for a send the producer failed without sending it because an earlier message on the same partition
 * failed for good ('partition' ordering fails the queue behind a failure, so nothing is stored out of order).
 * Such a send says nothing about its own record: it is sent again, never dead-lettered for the other one's
 * fault. The producer marks these by wrapping the earlier message's DanubeError as `cause`; every error of its
 * own has a gRPC error or nothing as cause.
 */
export function isCollateralFailure(err: unknown): boolean {
  return err instanceof DanubeError && err.cause instanceof DanubeError;
}
