package ecoutev1

import _ "embed" // the descriptor set below

// SourceDescriptors is a google.protobuf.FileDescriptorSet of the .proto
// files of this package WITH their comments (SourceCodeInfo), written by
// `make proto` (buf build). The generated Go code keeps no comments, so the
// server's reflection serves these descriptors instead: an integrator who
// has only `grpcurl describe` reads the contract's documentation.
//
//go:embed ecoute.binpb
var SourceDescriptors []byte
