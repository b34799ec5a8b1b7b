import { createS3UploadSigner } from "@reelbridge/core/adapters/aws/s3-upload-signer";
import type { AwsContext } from "../aws-platform";
import type { Platform } from "../platform";
import { s3Client } from "../aws";

/** S3's presigned POST for uploads/{jobId}/source in the media bucket. */
export const awsUploadSigner = ({ env }: AwsContext): Platform["uploadSigner"] => () => createS3UploadSigner(s3Client(), { bucket: env.mediaBucket });
