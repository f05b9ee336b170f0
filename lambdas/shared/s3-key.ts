/** S3 event notification keys are URL-encoded, with `+` for spaces (`a b+c.gz` arrives as `a+b%2Bc.gz`). */
export const decodeS3Key = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));
