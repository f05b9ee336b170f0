import { DomainError } from '../../lambdas/core/errors';

/** The DomainError `fn` throws; fails the test when it throws nothing or something else. */
export const domainError = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError, nothing was thrown');
};

/** The DomainError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function domainRejection(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError, the promise resolved');
}
