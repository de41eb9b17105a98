-- The user a task belongs to: the `sub` of the token its submit carried, with AUTH_JWKS_URL or
-- AUTH_HS256_SECRET; NULL without users. A read that presents another user's token is 404.
--
-- Both backends run this file.

ALTER TABLE tasks ADD COLUMN owner TEXT;
