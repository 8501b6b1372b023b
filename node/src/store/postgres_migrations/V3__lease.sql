-- The party's lease (node/src/store/postgres_lease.rs): which `signet run` process is the
-- active one. The process that takes the lease (an advisory lock) adds one to epoch; each
-- of its write transactions checks, under a share lock on this row, that epoch is still
-- the one it took, so a process whose lease another took can commit nothing more.
CREATE TABLE lease (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch bigint NOT NULL CHECK (epoch >= 0),
    holder text NOT NULL,
    since timestamptz NOT NULL
);
INSERT INTO lease (epoch, holder, since) VALUES (0, '', now());
