/**
 * S3 event notification keys are URL-encoded as in a form: `+` is a space and a literal `+` is
 * `%2B` (`1.3.1+5/` arrives as `1.3.1%2B5/`). Undefined for a key that is not valid encoding.
 */
export const decodeS3Key = (key: string): string | undefined => {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
};
