import type { FormInstance } from "antd";

/** Validate a form and hand its values on; a failed validation is already shown on the fields. */
export function submitValid<T>(form: FormInstance<T>, onValid: (values: T) => void): void {
  form.validateFields().then(onValid, () => undefined);
}
