// label: [host/]module:name[?params] labels (spec/labels.md).

export {
  LabelSyntaxError,
  formatLabel,
  formatParams,
  labelRoute,
  labelsEqual,
  maxLabelLength,
  paramValue,
  paramValues,
  parseLabel,
  withModule,
  type Label,
  type LabelPart,
  type Param,
} from "./label.js";
