package client

import ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"

// Audit is the AuditService on this connection (the console's audit
// screen reads the trail and verifies its chain through it).
func (c *Client) Audit() ecoutev1.AuditServiceClient {
	return ecoutev1.NewAuditServiceClient(c.conn)
}
