"""The public booking API's endpoints, schemas and error shapes; buergerservice.api mounts them under /api/v1/."""
