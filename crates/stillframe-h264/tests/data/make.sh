#!/bin/sh
# Regenerates the H.264 test streams and ffmpeg's reference output for them.
#
# Made with Debian's ffmpeg 5.1 (libx264 core 164). The streams are committed, so
# the tests never run this; run it only to change the fixtures, then update the
# expected SPS values in the tests from `ffprobe -show_streams` and
# `ffmpeg -i X.h264 -c copy -bsf:v trace_headers -f null -`.
#
# Every stream X.h264 is raw Annex B (start codes); X.packets is ffmpeg's list of
# the encoder's packets in decode order (dts, pts, size, md5), which gives the
# tests each access unit's bytes and presentation time. The tests build AVCC
# samples and an avcC record from them themselves.
set -eu
cd "$(dirname "$0")"

# testsrc2 is deterministic and moves; one x264 thread keeps the output reproducible.
src() { echo "testsrc2=size=$1:rate=25"; }
enc() {
    out=$1; size=$2; frames=$3; shift 3
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$(src "$size")" -frames:v "$frames" \
        -c:v libx264 -threads 1 "$@" -map 0:v \
        -f tee "[f=h264]$out.h264|[f=framemd5]$out.packets"
}

# Constrained Baseline, 170x130 (cropped from 176x144), two slices per picture,
# an IDR every 10 frames, BT.709 limited-range colour in the VUI.
enc baseline 170x130 20 -profile:v baseline -g 10 -keyint_min 10 -sc_threshold 0 \
    -slices 2 -color_primaries bt709 -color_trc bt709 -colorspace bt709 -color_range tv

# High with B-frames (pyramid, weighted), JVT scaling lists (x264 puts them in the
# PPS), 16:11 pixels, full-range BT.601 colour, 106x74 (cropped from 112x80), an IDR
# every 6 frames. Size and content are chosen so that OpenH264 drifts on one
# B-frame (cisco/openh264 #3269): most tiny clips decode bit-exactly.
enc high_bframes 106x74 12 -profile:v high -bf 3 -g 6 -keyint_min 6 -sc_threshold 0 \
    -x264-params b-pyramid=normal:weightb=1:cqm=jvt \
    -vf setsar=16/11 -pix_fmt yuvj420p \
    -color_primaries bt470bg -color_trc smpte170m -colorspace bt470bg -color_range pc

# Streams OpenH264 cannot decode: only their SPS matters.
enc high10 64x48 2 -pix_fmt yuv420p10le -profile:v high10
enc yuv422 170x130 2 -pix_fmt yuv422p -profile:v high422
enc yuv444 172x132 2 -pix_fmt yuv444p -profile:v high444 -vf scale=171:131,setsar=5/3
enc interlaced 170x132 4 -flags +ildct+ilme -x264-params tff=1
enc gray 64x48 2 -pix_fmt gray -profile:v high

# ffmpeg's view: per-frame md5 of the visible planes packed (Y, U, V).
for f in baseline high_bframes gray; do
    ffmpeg -hide_banner -loglevel error -y -i $f.h264 -f framemd5 $f.framemd5
done
# ffmpeg's decoded luma of the B-frame stream, for PSNR (OpenH264 drifts there).
ffmpeg -hide_banner -loglevel error -y -i high_bframes.h264 -vf extractplanes=y \
    -f rawvideo high_bframes.y
