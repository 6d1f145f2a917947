# Everything derived from the one definition, reference_stack/stack.json: tables, functions,
# routes and the stream mappings. Only plain values here — no resources — so the tests can
# evaluate this file with `terraform apply` on no provider at all.
locals {
  stack  = jsondecode(file("${path.module}/../stack.json"))
  prefix = "${var.name}-${var.stage}"

  # The package is built for this Python (reference_stack/package.py --python-version).
  lambda_runtime = "python3.12"

  tables = {
    for key, table in local.stack.tables : key => merge(table, {
      name = "${local.prefix}-${key}"
    })
  }

  functions = {
    for key, fn in local.stack.functions : key => merge(fn, {
      name                = "${local.prefix}-${replace(key, "_", "-")}"
      reads_jwt_secret    = contains(fn.env, "CHATSTACK_JWT_SECRET_PARAM")
      manages_connections = contains(fn.env, "CHATSTACK_MANAGEMENT_URL")
      # The tables whose streams feed this function (an event source mapping each).
      stream_tables  = distinct([for s in local.stack.streams : s.table if s.function == key])
      invokes_fanout = contains(fn.env, "CHATSTACK_FANOUT_FUNCTION")
      async_invoke   = try(fn.async_invoke, null)
    })
  }

  # REST: one API Gateway resource per path segment ("/chats/{chatId}/messages" is three),
  # one method per route. Resources are built level by level (a resource's parent must exist
  # first), up to three levels deep.
  rest_routes = {
    for route in local.stack.rest_routes : "${route.method} ${route.path}" => merge(route, {
      resource = trimprefix(route.path, "/")
      # What API Gateway puts in the source ARN: the path with each {parameter} as a wildcard.
      arn_path = replace(route.path, "/\\{[^}/]+\\}/", "*")
    })
  }
  rest_paths = {
    for path in distinct(flatten([
      for route in local.stack.rest_routes : [
        for depth in range(1, length(split("/", trimprefix(route.path, "/"))) + 1) :
        join("/", slice(split("/", trimprefix(route.path, "/")), 0, depth))
      ]
    ])) :
    path => {
      depth     = length(split("/", path))
      path_part = element(split("/", path), length(split("/", path)) - 1)
      parent    = join("/", slice(split("/", path), 0, length(split("/", path)) - 1))
      methods   = sort([for route in local.stack.rest_routes : route.method if trimprefix(route.path, "/") == path])
    }
  }
  rest_paths_by_depth = {
    for depth in [1, 2, 3] : depth => { for path, spec in local.rest_paths : path => spec if spec.depth == depth }
  }
  # Resources with at least one route: each answers its CORS preflight.
  rest_route_paths = { for path, spec in local.rest_paths : path => spec if length(spec.methods) > 0 }

  # WebSocket: every route but $connect/$disconnect answers with its Lambda's body (two-way).
  ws_routes         = local.stack.websocket.routes
  ws_two_way_routes = { for route, fn in local.ws_routes : route => fn if !contains(["$connect", "$disconnect"], route) }

  # The fan-out function, which the broadcaster (and the function itself, for retry shards)
  # invokes asynchronously; the ARN is built from the name, as the function depends on its role.
  fanout_function = "fanout_shard"
  async_functions = { for key, fn in local.functions : key => fn if fn.async_invoke != null }

  # Event source mappings: a table's stream into a function, filtered by the patterns of
  # stack.json (Lambda event filtering: only matching records invoke the function).
  streams = { for s in local.stack.streams : s.name => s }

  deletion_protection = coalesce(var.deletion_protection, var.stage == "prod")
}
