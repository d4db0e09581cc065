package client

import ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"

// Evaluations is the EvaluationService on this connection; the console's
// evaluation screens call it directly (each answer carries the status the
// screens need: ABORTED with the current version, FAILED_PRECONDITION with
// the reason a submit was refused).
func (c *Client) Evaluations() ecoutev1.EvaluationServiceClient {
	return ecoutev1.NewEvaluationServiceClient(c.conn)
}
