# Media (profile media): a private bucket per stack.json "buckets" entry (one: media). Browsers
# upload to it directly with presigned POSTs (POST /upload-url) and download through a CDN in
# front of it with presigned GETs (getAttachmentUrl): the CDN passes the signed query through to
# S3 unchanged (the URL is signed for the bucket's regional name, the origin's), adds
# `nosniff` and a sandboxing CSP to every answer, and caches nothing (each URL is per request).
#
# Costs: S3 Standard $0.023 per GB-month stored, $0.005 per 1,000 uploads, $0.0004 per 1,000
# downloads; CloudFront $0.085 per GB out (first 10 TB, PriceClass_100) and $0.0075 per 10,000
# HTTPS requests; unattached uploads are deleted after a day, so they cost at most a day's
# storage. KMS: one data key per object is avoided by the S3 bucket key.

locals {
  buckets = {
    for key, bucket in try(local.stack.buckets, {}) : key => merge(bucket, {
      cors_origins = [local.cors_origin]
    })
  }
  # AWS's managed policies: "Managed-CachingDisabled" and "Managed-AllViewerExceptHostHeader"
  # (every query string and viewer header but Host, which S3 must see as its own name).
  caching_disabled_policy_id               = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  all_viewer_except_host_request_policy_id = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
}

resource "aws_s3_bucket" "media" {
  for_each = local.buckets
  #checkov:skip=CKV_AWS_18:No server access logs: CloudTrail data events can be enabled per account; a log bucket would need its own logs, and so on.
  #checkov:skip=CKV_AWS_144:No cross-region replication: chat media is not worth a second region's storage by default.
  #checkov:skip=CKV2_AWS_62:No event notifications: attaching is checked by sendMessage, nothing reacts to uploads.
  #checkov:skip=CKV_AWS_21:No versioning: every upload has a key of its own and is never overwritten, and a deleted (unattached) upload must be gone, not kept as a noncurrent version.
  bucket_prefix = "${local.prefix}-${each.key}-"
  force_destroy = !local.deletion_protection
}

resource "aws_s3_bucket_public_access_block" "media" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.media[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "media" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.media[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "media" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.media[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

# Browsers of the web app's origin alone may upload (POST) and read (GET, HEAD).
resource "aws_s3_bucket_cors_configuration" "media" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.media[each.key].id
  cors_rule {
    allowed_origins = each.value.cors_origins
    allowed_methods = each.value.cors_methods
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 600
  }
}

# stack.json's lifecycle rules: uploads still tagged pending (never attached) go after a day,
# incomplete multipart uploads are aborted after a day.
resource "aws_s3_bucket_lifecycle_configuration" "media" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.media[each.key].id

  dynamic "rule" {
    for_each = [for rule in each.value.lifecycle : rule if can(rule.expiration_days)]
    content {
      id     = rule.value.id
      status = "Enabled"

      # One tag, no prefix: only uploads carry the tag. (The AWS provider's lifecycle waiter
      # never settles on an "and" filter against moto, and a tag alone needs none.)
      filter {
        tag {
          key   = one(keys(rule.value.tags))
          value = one(values(rule.value.tags))
        }
      }

      expiration {
        days = rule.value.expiration_days
      }
    }
  }

  # A rule of its own, over the whole bucket (checkov reads it here, not in a dynamic block).
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = one([
        for rule in each.value.lifecycle : rule.abort_incomplete_multipart_upload_days
        if can(rule.abort_incomplete_multipart_upload_days)
      ])
    }
  }
}

data "aws_iam_policy_document" "media_bucket" {
  for_each = local.buckets

  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.media[each.key].arn, "${aws_s3_bucket.media[each.key].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "media" {
  for_each   = local.buckets
  bucket     = aws_s3_bucket.media[each.key].id
  policy     = data.aws_iam_policy_document.media_bucket[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.media]
}

resource "aws_cloudfront_response_headers_policy" "media" {
  for_each = local.buckets
  #checkov:skip=CKV_AWS_259:HSTS without "preload": preloading commits a whole registrable domain and has no effect on *.cloudfront.net.
  name = "${local.prefix}-${each.key}-download-headers"

  security_headers_config {
    content_type_options {
      override = true # X-Content-Type-Options: nosniff
    }
    content_security_policy {
      content_security_policy = "default-src 'none'; sandbox"
      override                = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      override                   = true
    }
  }
}

resource "aws_cloudfront_distribution" "media" {
  for_each = local.buckets
  #checkov:skip=CKV_AWS_68:No WAF by default (a web ACL costs $5/month at rest): every download is a presigned URL S3 checks.
  #checkov:skip=CKV2_AWS_47:As CKV_AWS_68: no WAF, so no Log4j rule; the origin is S3, not Java.
  #checkov:skip=CKV_AWS_86:No CloudFront standard logs: they need a log bucket with ACLs enabled.
  #checkov:skip=CKV_AWS_310:One origin: S3 is regional and highly available; a failover origin needs a replica bucket.
  #checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate fixes the minimum TLS version; set a custom domain and certificate to require TLSv1.2_2021.
  #checkov:skip=CKV2_AWS_42:No custom domain by default, hence the default certificate.
  #checkov:skip=CKV_AWS_374:No geo restriction: a chat open to every country.
  #checkov:skip=CKV_AWS_305:No default root object: the distribution serves presigned objects only.
  #checkov:skip=CKV2_AWS_46:No origin access control: the presigned URL's own signature (of the function's role) authorizes each GET; OAC would replace it.
  enabled         = true
  comment         = "${local.prefix} ${each.key} downloads"
  price_class     = "PriceClass_100"
  http_version    = "http2and3"
  is_ipv6_enabled = true

  origin {
    origin_id   = "${each.key}-bucket"
    domain_name = aws_s3_bucket.media[each.key].bucket_regional_domain_name
    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = "${each.key}-bucket"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = local.caching_disabled_policy_id
    origin_request_policy_id   = local.all_viewer_except_host_request_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.media[each.key].id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
