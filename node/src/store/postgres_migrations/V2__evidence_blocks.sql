-- Hashes of complete blocks of the evidence log (Store::put_evidence_block): derived from
-- the entries, kept so that a node need not read every entry when it starts.
CREATE TABLE evidence_blocks (
    idx bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32)
);
