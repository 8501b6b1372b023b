-- Signet's PostgreSQL store, first layout (see node/src/store/postgres.rs).
-- Identifiers and digests are 32-byte bytea: PostgreSQL orders bytea bytewise, which is
-- the order the Store trait promises (the same as sled's keys).

CREATE TABLE key_events (
    party bytea NOT NULL,
    idx bigint NOT NULL CHECK (idx >= 0),
    event bytea NOT NULL,
    PRIMARY KEY (party, idx)
);

CREATE TABLE attestations (
    digest bytea PRIMARY KEY,
    bytes bytea NOT NULL
);

-- The status index is the (status, id) index on the sessions table itself, so it cannot
-- disagree with the records.
CREATE TABLE sessions (
    id bytea PRIMARY KEY,
    status text COLLATE "C" NOT NULL,
    state bytea NOT NULL
);
CREATE INDEX sessions_by_status ON sessions (status, id);

CREATE TABLE meta (
    name text COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL
);

-- Document chunks (at most 256 KiB each), content-addressed. EXTERNAL: kept out of line
-- without trying to compress them (documents are mostly compressed already).
CREATE TABLE chunks (
    digest bytea PRIMARY KEY,
    bytes bytea NOT NULL
);
ALTER TABLE chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;

CREATE TABLE manifests (
    document bytea PRIMARY KEY,
    manifest bytea NOT NULL
);

-- The evidence log: entries 0 .. len-1. The single evidence_head row holds len; appends
-- update it first, so its row lock orders appenders and a stale expected index matches
-- no row.
CREATE TABLE evidence (
    idx bigint PRIMARY KEY CHECK (idx >= 0),
    entry bytea NOT NULL
);
CREATE TABLE evidence_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    len bigint NOT NULL CHECK (len >= 0)
);
INSERT INTO evidence_head (len) VALUES (0);

-- seq_key is the u64 sequence number with its top bit flipped, as a signed bigint, so that
-- bigint order is u64 order.
CREATE TABLE outbox (
    recipient bytea NOT NULL,
    seq_key bigint NOT NULL,
    entry bytea NOT NULL,
    PRIMARY KEY (recipient, seq_key)
);

CREATE TABLE webhook_deliveries (
    id bytea PRIMARY KEY,
    record bytea NOT NULL
);
