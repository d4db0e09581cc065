package client

import (
	"context"
	"fmt"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// ChangePassword replaces the user's password. The server retires every
// session of the user, this one included, and answers with a new one,
// which the client keeps.
func (c *Client) ChangePassword(ctx context.Context, oldPassword, newPassword string) (*ecoutev1.ChangePasswordResponse, error) {
	resp, err := c.auth.ChangePassword(ctx, &ecoutev1.ChangePasswordRequest{OldPassword: oldPassword, NewPassword: newPassword})
	if err != nil {
		return nil, fmt.Errorf("change password: %w", err)
	}
	c.token.set(resp.GetToken())
	return resp, nil
}

// MyRecordingPeriods returns the current and next recording periods of
// the user's teams (R6).
func (c *Client) MyRecordingPeriods(ctx context.Context) (*ecoutev1.MyRecordingPeriodsResponse, error) {
	resp, err := ecoutev1.NewRecordingPeriodServiceClient(c.conn).MyRecordingPeriods(ctx, &ecoutev1.MyRecordingPeriodsRequest{})
	if err != nil {
		return nil, fmt.Errorf("recording periods: %w", err)
	}
	return resp, nil
}

// ListAccounts lists every account (administrators and the dpo).
func (c *Client) ListAccounts(ctx context.Context) ([]*ecoutev1.Account, error) {
	resp, err := ecoutev1.NewAdminServiceClient(c.conn).ListUsers(ctx, &ecoutev1.ListUsersRequest{})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return resp.GetAccounts(), nil
}
