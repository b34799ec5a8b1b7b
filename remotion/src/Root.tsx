import { Composition, staticFile } from "remotion";
import type { CalculateMetadataFunction } from "remotion";
import { Reel } from "./components/Reel";
import type { Aspect, RenderInputProps } from "./props";
import { ASPECTS, COMPOSITIONS, DIMENSIONS, FPS, durationInFrames, renderInputPropsSchema } from "./props";

// Duration follows the base clip, plus the end card.
const calculateMetadata: CalculateMetadataFunction<RenderInputProps> = ({ props }) => ({
  durationInFrames: durationInFrames(props.baseVideoDurationSeconds),
});

// Remotion merges a render's input props over these defaults, so they hold only required
// fields: an optional one here (a logo, a subtitle) would appear in every job that lacks it.
// The Studio's props editor offers the optional fields from the schema.
const defaults = (aspect: Aspect): RenderInputProps => ({
  title: "Golden hour over the harbour",
  aspect,
  // A 4-second sample clip in public/sample so the Studio has footage to show.
  baseVideoUrl: staticFile("sample/base.mp4"),
  baseVideoDurationSeconds: 4,
});

export const RemotionRoot: React.FC = () => (
  <>
    {ASPECTS.map((aspect) => (
      <Composition
        key={aspect}
        id={COMPOSITIONS[aspect]}
        component={Reel}
        schema={renderInputPropsSchema}
        defaultProps={defaults(aspect)}
        calculateMetadata={calculateMetadata}
        fps={FPS}
        width={DIMENSIONS[aspect].width}
        height={DIMENSIONS[aspect].height}
        durationInFrames={durationInFrames(4)}
      />
    ))}
  </>
);
