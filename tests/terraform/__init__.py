"""The reference deployment (Terraform, Lambda package, scripts), checked offline."""
