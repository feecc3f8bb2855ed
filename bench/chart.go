package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strings"
	"unicode"
)

// A bar is one row of the chart: a ratio and the bound it is held to.
type bar struct {
	label       string
	group       string // rows are grouped under a heading
	value       float64
	limit       float64
	lowerBetter bool
	met         bool
	neutral     bool // informative, not a target: drawn in blue
}

// Chart geometry, in pixels. Text is the 5x7 font scaled up.
const (
	textScale  = 2
	charW      = 6 * textScale // 5 columns and a gap
	rowH       = 26
	labelW     = 34 * charW
	barAreaW   = 640
	valueW     = 22 * charW
	marginX    = 16
	headerH    = 84
	chartWidth = marginX + labelW + barAreaW + valueW + marginX
	axisMax    = 3.0 // ratios beyond this are drawn clipped, with their value
)

var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colText       = color.RGBA{20, 20, 20, 255}
	colGrid       = color.RGBA{225, 225, 225, 255}
	colOne        = color.RGBA{120, 120, 120, 255}
	colMet        = color.RGBA{46, 160, 67, 255}
	colMissed     = color.RGBA{215, 58, 73, 255}
	colNeutral    = color.RGBA{60, 110, 200, 255}
	colLimit      = color.RGBA{0, 0, 0, 255}
)

// writeChart draws bars as a PNG file at path.
func writeChart(path string, bars []bar) error {
	rows := len(bars)
	groups := 0
	for i, b := range bars {
		if i == 0 || b.group != bars[i-1].group {
			groups++
		}
	}
	h := headerH + (rows+groups)*rowH + 20
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBackground}, image.Point{}, draw.Src)

	x0 := marginX + labelW
	scale := float64(barAreaW) / axisMax
	drawText(img, marginX, 8, "QTALK BENCH: RATIOS (GREEN MET, RED MISSED, BLUE QTALK / BEST PEER)", colText)
	drawText(img, marginX, 28, "BLACK TICK = TARGET. GREY LINE = 1.0", colText)
	for v := 0.0; v <= axisMax+1e-9; v += 0.5 {
		x := x0 + int(v*scale)
		c := colGrid
		if v == 1 {
			c = colOne
		}
		fillRect(img, x, headerH-6, x+1, h-10, c)
		drawText(img, x-charW, headerH-24, fmt.Sprintf("%.1f", v), colText)
	}

	y := headerH
	for i, b := range bars {
		if i == 0 || b.group != bars[i-1].group {
			drawText(img, marginX, y+6, strings.ToUpper(b.group), colText)
			y += rowH
		}
		drawText(img, marginX+charW, y+6, b.label, colText)
		c := colMissed
		switch {
		case b.neutral:
			c = colNeutral
		case b.met:
			c = colMet
		}
		w := int(min(b.value, axisMax) * scale)
		fillRect(img, x0, y+4, x0+w, y+rowH-4, c)
		if b.limit > 0 && b.limit <= axisMax {
			lx := x0 + int(b.limit*scale)
			fillRect(img, lx-1, y+1, lx+2, y+rowH-1, colLimit)
		}
		text := fmt.Sprintf("%.2f", b.value)
		if b.value > axisMax {
			text = ">" + text
		}
		if !b.neutral {
			op := ">="
			if b.lowerBetter {
				op = "<="
			}
			text += fmt.Sprintf(" GOAL %s%.3g", op, b.limit)
		} else if b.lowerBetter {
			text += " (LOWER BETTER)"
		}
		drawText(img, x0+barAreaW+charW, y+6, text, colText)
		y += rowH
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fillRect(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

// drawText draws s with its top left corner at (x, y).
func drawText(img *image.RGBA, x, y int, s string, c color.Color) {
	for _, r := range s {
		g, ok := glyphs[r]
		if !ok {
			g, ok = glyphs[unicode.ToUpper(r)]
		}
		if !ok {
			g = glyphs['?']
		}
		for gy, row := range g {
			for gx, px := range row {
				if px == '#' {
					fillRect(img, x+gx*textScale, y+gy*textScale, x+(gx+1)*textScale, y+(gy+1)*textScale, c)
				}
			}
		}
		x += charW
	}
}
