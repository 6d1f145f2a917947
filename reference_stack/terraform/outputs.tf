# The stage's URLs, the shape `chatstack conform --stage` and the load tests read from
# `terraform output -json`. No secret is ever an output.
output "rest_url" {
  description = "REST API base URL: POST {rest_url}/signup, {rest_url}/login."
  value       = aws_api_gateway_stage.rest.invoke_url
}

output "ws_url" {
  description = "WebSocket URL: connect with ?token=JWT."
  value       = aws_apigatewayv2_stage.ws.invoke_url
}

output "web_url" {
  description = "The web app, served by CloudFront."
  value       = "https://${aws_cloudfront_distribution.web.domain_name}/"
}

output "web_bucket" {
  description = "The bucket deploy.sh uploads frontend/dist to."
  value       = aws_s3_bucket.web.id
}

output "media_bucket" {
  description = "The private bucket of uploaded files (uploads/{userId}/…)."
  value       = aws_s3_bucket.media["media"].id
}
