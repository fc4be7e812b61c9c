package mcpb

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"testing"
)

// iconFile is the bundle's icon, committed; this test draws it and checks the file still is that drawing.
// Regenerate it after changing drawIcon with: UPDATE_ICON=1 go test ./internal/mcpb/ -run Icon
const iconFile = "../../mcpb/icon.png"

// iconSize is what Claude Desktop recommends for a bundle's icon (mcpb validate says so).
const iconSize = 512

// drawIcon draws MeshAI's mark: five agents (nodes) meshed around a hub on a rounded indigo square, anti-aliased
// by coverage computed from each shape's distance to the pixel centre.
func drawIcon() *image.NRGBA {
	type node struct{ x, y, r float64 }
	hub := node{256, 256, 50}
	ring := []node{{256, 104, 34}, {400, 208, 34}, {346, 386, 34}, {166, 386, 34}, {112, 208, 34}}
	var (
		background = color.NRGBA{0x1e, 0x1b, 0x4b, 0xff}
		line       = color.NRGBA{0x81, 0x8c, 0xf8, 0xff}
		agent      = color.NRGBA{0xf8, 0xfa, 0xfc, 0xff}
		centre     = color.NRGBA{0x22, 0xd3, 0xee, 0xff}
	)
	img := image.NewNRGBA(image.Rect(0, 0, iconSize, iconSize))
	for y := 0; y < iconSize; y++ {
		for x := 0; x < iconSize; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			var c [4]float64 // premultiplied, 0..1
			over := func(col color.NRGBA, dist float64) {
				a := math.Max(0, math.Min(1, 0.5-dist)) * float64(col.A) / 255
				for i, v := range []uint8{col.R, col.G, col.B} {
					c[i] = float64(v)/255*a + c[i]*(1-a)
				}
				c[3] = a + c[3]*(1-a)
			}
			over(background, roundedSquare(px, py, iconSize, 104))
			d := math.Inf(1)
			for i, n := range ring {
				next := ring[(i+1)%len(ring)]
				d = math.Min(d, segment(px, py, n.x, n.y, next.x, next.y)-7)
				d = math.Min(d, segment(px, py, hub.x, hub.y, n.x, n.y)-9)
			}
			over(line, d)
			for _, n := range ring {
				over(agent, math.Hypot(px-n.x, py-n.y)-n.r)
			}
			over(centre, math.Hypot(px-hub.x, py-hub.y)-hub.r)
			if c[3] > 0 {
				img.SetNRGBA(x, y, color.NRGBA{
					R: uint8(math.Round(c[0] / c[3] * 255)), G: uint8(math.Round(c[1] / c[3] * 255)),
					B: uint8(math.Round(c[2] / c[3] * 255)), A: uint8(math.Round(c[3] * 255)),
				})
			}
		}
	}
	return img
}

// roundedSquare is the signed distance from (x, y) to a square of side size at the origin with corners of radius r.
func roundedSquare(x, y, size, r float64) float64 {
	h := size / 2
	qx, qy := math.Abs(x-h)-(h-r), math.Abs(y-h)-(h-r)
	return math.Hypot(math.Max(qx, 0), math.Max(qy, 0)) + math.Min(math.Max(qx, qy), 0) - r
}

// segment is the distance from (x, y) to the segment from (ax, ay) to (bx, by).
func segment(x, y, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := math.Max(0, math.Min(1, ((x-ax)*dx+(y-ay)*dy)/(dx*dx+dy*dy)))
	return math.Hypot(x-ax-t*dx, y-ay-t*dy)
}

func TestIconIsTheDrawing(t *testing.T) {
	want := drawIcon()
	if os.Getenv("UPDATE_ICON") != "" {
		var b bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, want); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(iconFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", iconFile, b.Len())
	}
	f, err := os.Open(iconFile)
	if err != nil {
		t.Fatalf("%v (generate it: UPDATE_ICON=1 go test ./internal/mcpb/ -run Icon)", err)
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", iconFile, err)
	}
	if got.Bounds() != want.Bounds() {
		t.Fatalf("%s is %v, want %v", iconFile, got.Bounds(), want.Bounds())
	}
	// One step of tolerance per channel: a CPU that fuses multiply-adds may round a pixel of the edge differently.
	for y := 0; y < iconSize; y++ {
		for x := 0; x < iconSize; x++ {
			g := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			w := want.NRGBAAt(x, y)
			if far(g.R, w.R) || far(g.G, w.G) || far(g.B, w.B) || far(g.A, w.A) {
				t.Fatalf("%s differs from the drawing at (%d, %d): %v, want %v (regenerate: UPDATE_ICON=1 go test ./internal/mcpb/ -run Icon)", iconFile, x, y, g, w)
			}
		}
	}
}

func far(a, b uint8) bool { return int(a)-int(b) > 1 || int(b)-int(a) > 1 }
