from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

CODE_LABEL = "Code from your authenticator app, or a recovery code"


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")


class CodeForm(FlaskForm):
    """The second step of signing in, confirming enrolment, or turning two-factor off."""

    code = StringField(
        CODE_LABEL,
        validators=[DataRequired("Enter the code."), Length(max=20, message="That is too long for a code.")],
    )  # fmt: skip


class DisableTwoFactorForm(CodeForm):
    password = PasswordField(
        "Your password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired("Enter your email address."), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password (at least 10 characters)",
        validators=[DataRequired("Enter a new password."), Length(max=200)],
    )
    confirm = PasswordField(
        "The new password again", validators=[DataRequired("Enter it again."), Length(max=200)]
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=200)],
    )


class LanguageForm(FlaskForm):
    lang = SelectField(
        "Language", choices=[SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]
    )
