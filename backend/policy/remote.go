package policy

// Remote review over SSH (issue 14): the accounts' SSH keys, which only
// administrators manage, and the pairing of a console served over SSH with
// a companion that plays its sound on the reviewer's machine, for the
// roles that may hear calls.
const (
	MAddSSHKey    = "/ecoute.v1.AdminService/AddSshKey"
	MListSSHKeys  = "/ecoute.v1.AdminService/ListSshKeys"
	MRemoveSSHKey = "/ecoute.v1.AdminService/RemoveSshKey"

	MCreatePairing   = "/ecoute.v1.PairingService/CreatePairing"
	MPublishPlayback = "/ecoute.v1.PairingService/PublishPlayback"
	MFollowPlayback  = "/ecoute.v1.PairingService/FollowPlayback"
)

var (
	// sshKeys registers, lists and removes the accounts' SSH keys (admin).
	sshKeys = []string{MAddSSHKey, MListSSHKeys, MRemoveSSHKey}
	// pairing publishes a player's state and follows it (the roles that
	// hear calls: the companion plays what they may hear).
	pairing = []string{MCreatePairing, MPublishPlayback, MFollowPlayback}
)
