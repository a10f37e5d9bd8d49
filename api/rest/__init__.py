"""The REST API, versioned under ``/api/v1``; one router per kind of object."""
