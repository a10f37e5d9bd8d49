"""The ways people reach the system: the ``jiedui`` command line (``cli/``), the REST API (``rest/``),
GraphQL (``graphql/``) and the organisers' web console (``web/``), over the shared operations, with
authentication, throttles and security headers beside them."""
