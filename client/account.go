package client

import (
	"context"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
)

// ChangePassword implements Session. It is never asked again: the old
// password stops working the moment the first attempt succeeds.
func (c *Client) ChangePassword(ctx context.Context, oldPassword, newPassword string) (*ecoutev1.ChangePasswordResponse, error) {
	var resp *ecoutev1.ChangePasswordResponse
	err := c.conns.do(ctx, "change password", Once, func(ctx context.Context) (err error) {
		resp, err = c.auth.ChangePassword(ctx, &ecoutev1.ChangePasswordRequest{OldPassword: oldPassword, NewPassword: newPassword})
		return err
	})
	if err != nil {
		return nil, err
	}
	c.token.set(resp.GetToken())
	return resp, nil
}

// MyRecordingPeriods implements Periods.
func (c *Client) MyRecordingPeriods(ctx context.Context) (*ecoutev1.MyRecordingPeriodsResponse, error) {
	var resp *ecoutev1.MyRecordingPeriodsResponse
	err := c.conns.do(ctx, "recording periods", Again, func(ctx context.Context) (err error) {
		resp, err = c.periods.MyRecordingPeriods(ctx, &ecoutev1.MyRecordingPeriodsRequest{})
		return err
	})
	return resp, err
}

// ListAccounts implements Accounts.
func (c *Client) ListAccounts(ctx context.Context) ([]*ecoutev1.Account, error) {
	var resp *ecoutev1.ListUsersResponse
	err := c.conns.do(ctx, "list accounts", Again, func(ctx context.Context) (err error) {
		resp, err = c.admin.ListUsers(ctx, &ecoutev1.ListUsersRequest{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.GetAccounts(), nil
}
