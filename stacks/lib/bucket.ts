import { RemovalPolicy } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";

/**
 * Every bucket of the app: private (no public access, no ACLs), encrypted at rest, TLS only
 * (a bucket policy denies aws:SecureTransport=false), kept in prod and emptied with the stack
 * elsewhere.
 */
export function privateBucket(scope: Construct, id: string, stage: string, props: s3.BucketProps = {}): s3.Bucket {
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: stage === "prod" ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    autoDeleteObjects: stage !== "prod",
    ...props,
  });
}
