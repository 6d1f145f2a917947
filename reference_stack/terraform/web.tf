# The front end: a private, versioned S3 bucket behind CloudFront (origin access control), and
# the runtime config.json telling the app where the APIs are. deploy.sh uploads frontend/dist.
resource "aws_s3_bucket" "web" {
  #checkov:skip=CKV_AWS_18:No server access logs for a bucket only CloudFront reads; a log bucket would need its own logs, and so on.
  #checkov:skip=CKV_AWS_144:No cross-region replication: the content is rebuilt and re-uploaded by deploy.sh.
  #checkov:skip=CKV2_AWS_62:No event notifications: nothing reacts to uploads.
  #checkov:skip=CKV_AWS_145:SSE-S3, not KMS: public web assets served through CloudFront, which would otherwise need a grant on the stage's key.
  bucket_prefix = "${local.prefix}-web-"
  force_destroy = true # cleanup.sh removes the stage, uploaded files and all their versions included
}

resource "aws_s3_bucket_public_access_block" "web" {
  bucket                  = aws_s3_bucket.web.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "web" {
  bucket = aws_s3_bucket.web.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "web" {
  bucket = aws_s3_bucket.web.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "web" {
  bucket = aws_s3_bucket.web.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "web" {
  bucket = aws_s3_bucket.web.id

  rule {
    id     = "expire-replaced-files"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.web]
}

data "aws_iam_policy_document" "web_bucket" {
  statement {
    sid       = "CloudFrontReadsThroughOriginAccessControl"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.web.arn}/*"]
    principals {
      type        = "Service"
      identifiers = [local.principal["cloudfront"]]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.web.arn]
    }
  }

  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.web.arn, "${aws_s3_bucket.web.arn}/*"]
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

resource "aws_s3_bucket_policy" "web" {
  bucket     = aws_s3_bucket.web.id
  policy     = data.aws_iam_policy_document.web_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.web]
}

resource "aws_cloudfront_origin_access_control" "web" {
  name                              = "${local.prefix}-web"
  description                       = "CloudFront reads ${local.prefix}'s web bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_response_headers_policy" "web" {
  #checkov:skip=CKV_AWS_259:HSTS without "preload": preloading commits a whole registrable domain and has no effect on *.cloudfront.net; with a custom domain it is its owner's choice.
  name = "${local.prefix}-web-security-headers"

  security_headers_config {
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "same-origin"
      override        = true
    }
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      override                   = true
    }
  }
}

locals {
  # AWS's managed cache policy "Managed-CachingOptimized".
  caching_optimized_policy_id = "658327ea-f89d-4fab-a63d-7e88639e58f6"
}

resource "aws_cloudfront_distribution" "web" {
  #checkov:skip=CKV_AWS_68:No WAF by default (a web ACL costs $5/month at rest) for static files; attach one for production.
  #checkov:skip=CKV2_AWS_47:As CKV_AWS_68: no WAF, so no Log4j rule; the origin is S3, not Java.
  #checkov:skip=CKV_AWS_86:No CloudFront standard logs: they need a log bucket with ACLs enabled; CloudFront's metrics suffice for static files.
  #checkov:skip=CKV_AWS_310:One origin: S3 is regional and highly available; a failover origin needs a replica bucket.
  #checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate fixes the minimum TLS version; set a custom domain and certificate to require TLSv1.2_2021.
  #checkov:skip=CKV2_AWS_42:No custom domain by default, hence the default certificate.
  #checkov:skip=CKV_AWS_374:No geo restriction: a chat open to every country.
  enabled             = true
  comment             = "${local.prefix} web app"
  default_root_object = "index.html"
  price_class         = "PriceClass_100"
  http_version        = "http2and3"
  is_ipv6_enabled     = true

  origin {
    origin_id                = "web-bucket"
    domain_name              = aws_s3_bucket.web.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.web.id
  }

  default_cache_behavior {
    target_origin_id           = "web-bucket"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.caching_optimized_policy_id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web.id
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

# Where the app finds the APIs, read at run time (the same file the local stage serves).
resource "aws_s3_object" "config" {
  bucket        = aws_s3_bucket.web.id
  key           = "config.json"
  content_type  = "application/json"
  cache_control = "no-cache"
  content = jsonencode({
    restUrl = aws_api_gateway_stage.rest.invoke_url
    wsUrl   = aws_apigatewayv2_stage.ws.invoke_url
  })
}
