package rpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/qtalkkit/qtalk/rpc"
)

// chunkCodec carries byte slices only: a uvarint length, then the bytes.
// As a BytesCodec, its long slices are written from the sender's memory
// and read into the receiver's slice without a copy in between.
type chunkCodec struct{}

func (chunkCodec) Name() string { return "chunk" }

func (c chunkCodec) Append(b []byte, v any) ([]byte, error) {
	p, ok := v.([]byte)
	if !ok {
		return b, fmt.Errorf("chunk: cannot encode %T", v)
	}
	return append(c.AppendBytesHead(b, len(p)), p...), nil
}

func (c chunkCodec) Unmarshal(data []byte, v any) error {
	head, n, ok := c.ParseBytesHead(data)
	p, isBytes := v.(*[]byte)
	if !ok || n != uint64(len(data)-head) || !isBytes {
		return fmt.Errorf("chunk: cannot decode into %T", v)
	}
	*p = append((*p)[:0], data[head:]...)
	return nil
}

func (chunkCodec) AppendBytesHead(b []byte, n int) []byte {
	return binary.AppendUvarint(b, uint64(n))
}

func (chunkCodec) ParseBytesHead(data []byte) (head int, n uint64, ok bool) {
	n, head = binary.Uvarint(data)
	return head, n, head > 0
}

func ExampleBytesCodec() {
	rpc.RegisterCodec(chunkCodec{})
	echo := rpc.HandlerFunc(func(r rpc.Responder, c *rpc.Call) {
		var chunk []byte
		if err := c.Receive(&chunk); err != nil {
			r.Error(err)
			return
		}
		r.Return(chunk)
	})
	client, stop := connect(echo)
	defer stop()
	client = rpc.NewClient(client.Session(), rpc.WithCodec(chunkCodec{}))

	chunk := bytes.Repeat([]byte("qtalk"), 20000)
	var back []byte
	if _, err := client.Call(context.Background(), "echo", chunk, &back); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(back), bytes.Equal(back, chunk))
	// Output: 100000 true
}
