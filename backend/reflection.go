package backend

import (
	"fmt"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	v1reflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1"
	v1alphareflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// documented resolves the ecoute files from the descriptor set that keeps
// their comments (ecoutev1.SourceDescriptors) and every other file (the
// well-known types, health, reflection) from the program's registry.
type documented struct{ own *protoregistry.Files }

func (d documented) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := d.own.FindFileByPath(path); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

func (d documented) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if desc, err := d.own.FindDescriptorByName(name); err == nil {
		return desc, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(name)
}

// documentedFiles loads ecoutev1.SourceDescriptors (files in dependency
// order, as buf writes them).
func documentedFiles() (documented, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(ecoutev1.SourceDescriptors, &set); err != nil {
		return documented{}, fmt.Errorf("descriptor set: %w", err)
	}
	d := documented{own: &protoregistry.Files{}}
	for _, fdp := range set.GetFile() {
		fd, err := protodesc.NewFile(fdp, d)
		if err != nil {
			return documented{}, fmt.Errorf("descriptor set: %s: %w", fdp.GetName(), err)
		}
		if err := d.own.RegisterFile(fd); err != nil {
			return documented{}, fmt.Errorf("descriptor set: %w", err)
		}
	}
	return d, nil
}

// registerReflection serves server reflection (v1 and v1alpha) with the
// documented descriptors, so `grpcurl describe` shows the comments of the
// contract.
func registerReflection(s *grpc.Server) error {
	files, err := documentedFiles()
	if err != nil {
		return err
	}
	svr := reflection.NewServerV1(reflection.ServerOptions{Services: s, DescriptorResolver: files})
	v1reflectiongrpc.RegisterServerReflectionServer(s, svr)
	v1alphareflectiongrpc.RegisterServerReflectionServer(s, reflection.NewServer(
		reflection.ServerOptions{Services: s, DescriptorResolver: files}))
	return nil
}

// registerHealth reports SERVING for the server as a whole ("") and for
// every service registered so far, so that a load balancer probing any of
// them finds it up.
func registerHealth(s *grpc.Server) {
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for name := range s.GetServiceInfo() {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	healthpb.RegisterHealthServer(s, hs)
}
