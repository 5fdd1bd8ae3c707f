-- The operations gauges (flows/ops_gauges.cpp) read, every 15 s from each gateway, when a package last
-- reached each participant, how many wait for it, and how many are dead. Without these they scanned the
-- whole message table: a cost that grew with every case ever exchanged (issue 25, "cost must not grow
-- with the data"). Each is partial: a waiting package has one small entry until it is sent, a sent one
-- an entry by its time, a dead one an entry until it is replayed.
CREATE INDEX message_out_waiting ON message (peer_org_id) WHERE direction = 'out' AND status NOT IN ('sent', 'dead');
CREATE INDEX message_out_sent ON message (peer_org_id, updated_at) WHERE direction = 'out' AND status = 'sent';
CREATE INDEX message_out_dead ON message (peer_org_id) WHERE direction = 'out' AND status = 'dead';
